from reelfactory.cli import main

main()
