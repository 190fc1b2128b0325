# Several systems in one project, each with its own datasets, bus, warehouse, services and API.
# CI passes project_id, region and container_image (deploy-env.yml); by hand:
#   terraform plan -var-file=several-systems.tfvars -var=project_id=<your project>
systems = {
  # Every dataset in schemas/, one warm API instance.
  ducto = {
    api = {
      min_instances = 1
    }
  }

  # One dataset for one partner, with its own quota. To let the partner call it with keys of its
  # own project, name its principals: consumers = ["group:<a group of your domain>"].
  partner-flights = {
    datasets                  = ["flights"]
    quota_requests_per_minute = 120
  }

  # The same code as a container on Cloud Run: the image the pipeline built for this commit
  # (var.container_image), sized for a busier feed.
  ops = {
    datasets = ["flights"]
    compute  = "cloud-run"
    ingest = {
      min_instances = 1
      max_instances = 50
      memory        = "1Gi"
    }
  }
}
