from petridish.cli import main

main()
