# One system serving one dataset:
#   terraform plan -var-file=one-system.tfvars
project_id = "ducto-dev-000000"
region     = "europe-west1"

systems = {
  ducto = {
    datasets = ["flights"]
  }
}
