# One BigQuery dataset holding a system's tables (one per dataset schema, plus its `_rejected`
# table) and the views the API reads. Table definitions come from infra/generated/, derived from
# schemas/*.json, so the warehouse and the code cannot disagree on a column.

resource "google_bigquery_dataset" "default" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  location                   = var.location
  description                = var.description
  labels                     = var.labels
  delete_contents_on_destroy = !var.deletion_protection
}

resource "google_bigquery_table" "tables" {
  for_each            = var.tables
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.default.dataset_id
  table_id            = each.key
  description         = each.value.description
  labels              = var.labels
  schema              = each.value.schema
  clustering          = length(each.value.clustering) > 0 ? each.value.clustering : null
  deletion_protection = var.deletion_protection
  # Every query must name a day range: a forgotten filter would scan the whole history.
  require_partition_filter = true
  time_partitioning {
    type  = each.value.partition_type
    field = each.value.partition_field
  }
}

resource "google_bigquery_table" "views" {
  for_each            = var.views
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.default.dataset_id
  table_id            = each.key
  description         = each.value.description
  labels              = var.labels
  deletion_protection = var.deletion_protection
  view {
    query          = each.value.query
    use_legacy_sql = false
  }
  depends_on = [google_bigquery_table.tables]
}

# Authoritative per role on this dataset only: ingest writes, the API reads, nobody gets a project role.
resource "google_bigquery_dataset_iam_binding" "default" {
  for_each   = var.iam
  project    = var.project_id
  dataset_id = google_bigquery_dataset.default.dataset_id
  role       = each.key
  members    = each.value
}
