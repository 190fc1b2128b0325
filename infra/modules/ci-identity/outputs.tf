output "deploy_service_account" {
  description = "Email of the deploy account (google-github-actions/auth `service_account` on the deploy branch)."
  value       = google_service_account.deploy.email
}

output "plan_service_account" {
  description = "Email of the read-only account for plans on pull requests."
  value       = google_service_account.plan.email
}

output "workload_identity_provider" {
  description = "Full provider name for google-github-actions/auth `workload_identity_provider`."
  value       = google_iam_workload_identity_pool_provider.default.name
}
