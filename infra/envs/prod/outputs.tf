output "source_object" {
  description = "The function source archive this apply deployed."
  value       = "gs://${google_storage_bucket.sources.name}/${google_storage_bucket_object.source.name}"
}

output "systems" {
  description = "Per system: API URL, API key names, BigQuery dataset, ingest URL, managed service and topics."
  value = {
    for name, s in module.system : name => {
      api_keys         = s.api_keys
      api_url          = s.api_url
      bigquery_dataset = s.bigquery_dataset
      ingest_url       = s.ingest_url
      managed_service  = s.managed_service
      topics           = s.topics
    }
  }
}
