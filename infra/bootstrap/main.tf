# What a person with owner rights applies once per environment project, before CI can deploy (npm
# run deploy:bootstrap does it): the APIs, the Terraform state bucket, the image repository CI
# pushes to before its first apply, and the keyless CI identity. Everything else is applied by CI
# with the deploy account this creates.

locals {
  labels = { system = "shared", env = var.env, component = "delivery" }
}

resource "google_project_service" "default" {
  for_each           = toset(var.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_storage_bucket" "state" {
  project                     = var.project_id
  name                        = var.state_bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = local.labels
  # Every state write is kept for a while: a bad apply can be rolled back to the previous state.
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      num_newer_versions = 20
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
  lifecycle {
    prevent_destroy = true
  }
}

# CI pushes the image it built to this repository before it applies (deploy-env.yml), so the
# repository must exist before the first apply. Function builds push here too. A tag, once pushed,
# names one image for good: a rollback can re-deploy the previous commit's tag.
module "registry" {
  source         = "../modules/artifact-registry"
  project_id     = var.project_id
  location       = var.region
  name           = "ducto"
  description    = "ducto images: the container image CI builds, and the function builds' images"
  immutable_tags = true
  labels         = local.labels
  depends_on     = [google_project_service.default]
}

module "ci" {
  source                 = "../modules/ci-identity"
  project_id             = var.project_id
  github_repository      = var.github_repository
  github_repository_id   = var.github_repository_id
  deploy_branch          = var.deploy_branch
  deploy_roles           = var.deploy_roles
  deploy_grantable_roles = var.deploy_grantable_roles
  plan_roles             = var.plan_roles
  state_bucket           = google_storage_bucket.state.name
  depends_on             = [google_project_service.default]
}
