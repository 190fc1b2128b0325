output "api_keys" {
  description = "API key resource names by short name."
  value       = module.gateway.api_keys
}

output "api_url" {
  description = "Public base URL of the API (the gateway); data routes need an x-api-key header."
  value       = module.gateway.url
}

output "bigquery_dataset" {
  description = "BigQuery dataset id of the system."
  value       = module.warehouse.dataset_id
}

output "ingest_url" {
  description = "Ingest service URL (reachable from the project only, by the push identity only)."
  value       = local.ingest_url
}

output "managed_service" {
  description = "Managed service consumers enable in their projects to call the API."
  value       = module.gateway.managed_service
}

output "monitoring" {
  description = "What modules/monitoring watches, by the names Cloud Monitoring labels the series with."
  value = {
    api_service    = local.api_service
    datasets       = local.dataset_names
    gateway_id     = module.gateway.gateway_id
    ingest_service = local.ingest_service
    subscriptions  = [for d in local.dataset_names : module.bus[d].subscription_name]
  }
}

output "topics" {
  description = "Dataset => topic producers publish to."
  value       = { for d, b in module.bus : d => b.topic_id }
}
