from hallway_notification.app import main

main()
