output "id" {
  description = "Repository id (projects/<p>/locations/<l>/repositories/<r>), the functions' docker_repository."
  value       = google_artifact_registry_repository.default.id
}

output "name" {
  description = "Repository id (the short name), for IAM grants on it."
  value       = google_artifact_registry_repository.default.repository_id
}

output "url" {
  description = "Docker registry path to tag images with (<location>-docker.pkg.dev/<project>/<name>)."
  value       = "${var.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.default.repository_id}"
}
