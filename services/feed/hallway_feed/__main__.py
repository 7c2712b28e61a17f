from hallway_feed.app import main

main()
