from kvsearch.cli import main

main()
