terraform {
  required_version = ">= 1.11.0"
  # The first apply runs with local state, then the state moves into the bucket this root creates:
  # npm run deploy:bootstrap does both (scripts/deploy-bootstrap.ts).
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
