terraform {
  required_version = ">= 1.11.0"
  # The bucket is passed at init: terraform init -backend-config="bucket=<state bucket>"
  backend "gcs" {
    prefix = "ducto/prod"
  }
  required_providers {
    # Exact pins: the provider schema test/fixtures/infra/provider-schema.json checks against is
    # taken from these versions (npm run infra:schema); CI commits .terraform.lock.hcl.
    archive = {
      source  = "hashicorp/archive"
      version = "2.7.1"
    }
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "6.50.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "3.7.2"
    }
    time = {
      source  = "hashicorp/time"
      version = "0.13.1"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "google-beta" {
  project = var.project_id
  region  = var.region
}
