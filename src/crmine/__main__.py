from crmine.cli import main

main()
