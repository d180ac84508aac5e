from padtec_exporter.cli import main

main()
