output "id" {
  description = "Function id."
  value       = google_cloudfunctions2_function.default.id
}

output "service_account_email" {
  description = "The function's runtime service account."
  value       = google_service_account.default.email
}

output "service_account_member" {
  description = "The runtime service account as an IAM member (serviceAccount:…)."
  value       = google_service_account.default.member
}

output "service_name" {
  description = "Name of the function's Cloud Run service, as Cloud Monitoring labels its series (service_name)."
  value       = basename(google_cloudfunctions2_function.default.service_config[0].service)
}

output "uri" {
  description = "HTTPS URL of the function's Cloud Run service."
  value       = google_cloudfunctions2_function.default.service_config[0].uri
}
