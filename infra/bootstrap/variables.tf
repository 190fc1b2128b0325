variable "deploy_branch" {
  description = "The only branch whose workflows may deploy this environment."
  type        = string
  default     = "main"
}

variable "deploy_grantable_roles" {
  description = "Project roles the env roots grant to their own service accounts, which the deploy account may grant and nothing else."
  type        = list(string)
  default     = ["roles/bigquery.jobUser", "roles/logging.logWriter"]
}

variable "deploy_roles" {
  description = "Project roles of the deploy account: enough to apply infra/envs, no owner or editor."
  type        = list(string)
  default = [
    "roles/apigateway.admin",
    "roles/apikeys.admin",
    "roles/artifactregistry.admin",
    "roles/bigquery.dataOwner",
    "roles/cloudfunctions.developer",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/pubsub.admin",
    "roles/run.admin",
    "roles/secretmanager.admin",
    "roles/servicemanagement.admin",
    "roles/serviceusage.serviceUsageAdmin",
    "roles/storage.admin",
  ]
}

variable "env" {
  description = "Environment this project hosts (dev, prod), the env label."
  type        = string
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env is dev or prod."
  }
}

variable "github_repository" {
  description = "owner/name of the GitHub repository that deploys."
  type        = string
}

variable "github_repository_id" {
  description = "Numeric id of that repository (`gh api repos/OWNER/NAME --jq .id`): the identity provider accepts its tokens only."
  type        = string
}

variable "project_id" {
  description = "Project of the environment."
  type        = string
}

variable "region" {
  description = "Region of the state bucket."
  type        = string
  default     = "europe-west1"
}

variable "services" {
  description = "APIs the deployment uses, enabled here so the deploy account needs no right to enable arbitrary APIs."
  type        = list(string)
  default = [
    "apigateway.googleapis.com",
    "apikeys.googleapis.com",
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "bigquerystorage.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicecontrol.googleapis.com",
    "servicemanagement.googleapis.com",
    "storage.googleapis.com",
    "sts.googleapis.com",
  ]
}

variable "state_bucket" {
  description = "Name of the Terraform state bucket to create (globally unique)."
  type        = string
}
