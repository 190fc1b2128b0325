# One system serving one dataset, one warm API instance. CI passes project_id, region and
# container_image (deploy-env.yml); by hand:
#   terraform plan -var-file=one-system.tfvars -var=project_id=<your project>
systems = {
  ducto = {
    datasets = ["flights"]
    api = {
      min_instances = 1
    }
  }
}
