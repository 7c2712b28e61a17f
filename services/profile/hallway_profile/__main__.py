from hallway_profile.app import main

main()
