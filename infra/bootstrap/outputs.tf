output "deploy_service_account" {
  description = "Deploy account for the deploy workflow."
  value       = module.ci.deploy_service_account
}

output "image_repository" {
  description = "Docker path CI pushes the image to (<region>-docker.pkg.dev/<project>/ducto)."
  value       = module.registry.url
}

output "plan_service_account" {
  description = "Read-only account for plans on pull requests."
  value       = module.ci.plan_service_account
}

output "state_bucket" {
  description = "Bucket to pass to terraform init -backend-config=bucket=…"
  value       = google_storage_bucket.state.name
}

output "workload_identity_provider" {
  description = "Provider name for google-github-actions/auth."
  value       = module.ci.workload_identity_provider
}
