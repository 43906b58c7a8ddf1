from nnbuilder.cli.main import main

raise SystemExit(main())
