output "service_account_email" {
  description = "The service's runtime service account."
  value       = google_service_account.default.email
}

output "service_account_member" {
  description = "The runtime service account as an IAM member (serviceAccount:…)."
  value       = google_service_account.default.member
}

output "service_name" {
  description = "Name of the Cloud Run service, as Cloud Monitoring labels its series (service_name)."
  value       = google_cloud_run_v2_service.default.name
}

output "uri" {
  description = "HTTPS URL of the service."
  value       = google_cloud_run_v2_service.default.uri
}
