# One system serving one dataset, one warm API instance:
#   terraform plan -var-file=one-system.tfvars
project_id = "ducto-prod-000000"
region     = "europe-west1"

systems = {
  ducto = {
    datasets = ["flights"]
    api = {
      min_instances = 1
    }
  }
}
