# Several systems in one project, each with its own datasets, bus, warehouse, services and API:
#   terraform plan -var-file=several-systems.tfvars
project_id        = "ducto-dev-000000"
region            = "europe-west1"
bigquery_location = "EU"

systems = {
  # Every dataset in schemas/, default sizing.
  ducto = {}

  # One dataset for one partner, with its own quota, and the partner's group allowed to enable
  # the API in its own project.
  partner-flights = {
    datasets                  = ["flights"]
    quota_requests_per_minute = 120
    consumers                 = ["group:partner-flights@example.com"]
  }

  # The same code as a container on Cloud Run (image from the Dockerfile, pushed to
  # module.registry), sized for a busier feed.
  ops = {
    datasets        = ["flights"]
    compute         = "cloud-run"
    container_image = "europe-west1-docker.pkg.dev/ducto-dev-000000/ducto/ducto:0.1.0"
    ingest = {
      max_instances = 20
      memory        = "1Gi"
    }
  }
}
