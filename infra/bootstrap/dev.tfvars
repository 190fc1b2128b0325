# terraform apply -var-file=dev.tfvars   (once, with owner rights; see infra/README.md)
env                  = "dev"
project_id           = "ducto-dev-000000"
state_bucket         = "ducto-dev-000000-tfstate"
github_repository    = "example/ducto"
github_repository_id = "123456789"
