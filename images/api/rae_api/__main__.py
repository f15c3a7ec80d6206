from rae_api.app import main

main()
