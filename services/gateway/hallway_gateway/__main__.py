from hallway_gateway.cli import main

main()
