# npm run deploy:bootstrap -- --env dev … passes this file and the project, region, repository and
# state bucket (docs/delivery.md). GitFlow: only workflows on develop may deploy dev.
env           = "dev"
deploy_branch = "develop"
