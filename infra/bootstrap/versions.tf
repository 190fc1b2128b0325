terraform {
  required_version = ">= 1.11.0"
  # First apply runs with local state (see ../README.md); then the state moves into the bucket
  # this root creates: terraform init -migrate-state -backend-config="bucket=<state bucket>"
  backend "gcs" {
    prefix = "ducto/bootstrap"
  }
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
