output "dataset_id" {
  description = "Dataset id."
  value       = google_bigquery_dataset.default.dataset_id
}

output "table_ids" {
  description = "Table id => full table id (projects/…/datasets/…/tables/…), tables and views."
  value = merge(
    { for k, t in google_bigquery_table.tables : k => t.id },
    { for k, t in google_bigquery_table.views : k => t.id },
  )
}
