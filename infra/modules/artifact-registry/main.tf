# A Docker repository for ducto's images: the ones Cloud Build makes for the functions and the
# container image of the Cloud Run path. Old untagged versions are cleaned up; recent ones stay.

resource "google_artifact_registry_repository" "default" {
  project       = var.project_id
  location      = var.location
  repository_id = var.name
  description   = var.description
  format        = "DOCKER"
  labels        = var.labels
  docker_config {
    immutable_tags = var.immutable_tags
  }
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.keep_count
    }
  }
  cleanup_policies {
    id     = "delete-old-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "${var.untagged_retention_days * 86400}s"
    }
  }
}

resource "google_artifact_registry_repository_iam_binding" "readers" {
  count      = length(var.readers) > 0 ? 1 : 0
  project    = var.project_id
  location   = var.location
  repository = google_artifact_registry_repository.default.name
  role       = "roles/artifactregistry.reader"
  members    = var.readers
}

resource "google_artifact_registry_repository_iam_binding" "writers" {
  count      = length(var.writers) > 0 ? 1 : 0
  project    = var.project_id
  location   = var.location
  repository = google_artifact_registry_repository.default.name
  role       = "roles/artifactregistry.writer"
  members    = var.writers
}
