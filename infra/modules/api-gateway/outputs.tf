output "api_keys" {
  description = "Short name => API key resource name; read a key with `gcloud services api-keys get-key-string`."
  value       = { for k, v in google_apikeys_key.default : k => v.id }
}

output "gateway_id" {
  description = "The gateway's id, as Cloud Monitoring labels its series (gateway_id)."
  value       = google_api_gateway_gateway.default.gateway_id
}

output "managed_service" {
  description = "The API's managed service name, which consumers enable in their projects."
  value       = google_api_gateway_api.default.managed_service
}

output "service_account_member" {
  description = "The gateway's identity as an IAM member: grant it run.invoker on the backend."
  value       = google_service_account.default.member
}

output "url" {
  description = "HTTPS base URL of the gateway."
  value       = "https://${google_api_gateway_gateway.default.default_hostname}"
}
