# npm run deploy:bootstrap -- --env prod … passes this file and the project, region, repository and
# state bucket (docs/delivery.md). GitFlow: only workflows on main may deploy prod.
env           = "prod"
deploy_branch = "main"
