from hallway_search.app import main

main()
