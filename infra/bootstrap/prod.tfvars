# terraform apply -var-file=prod.tfvars   (once, with owner rights; see infra/README.md)
env                  = "prod"
project_id           = "ducto-prod-000000"
state_bucket         = "ducto-prod-000000-tfstate"
github_repository    = "example/ducto"
github_repository_id = "123456789"
