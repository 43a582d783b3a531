from bot.launcher import main

raise SystemExit(main())
