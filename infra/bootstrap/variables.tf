variable "deploy_branch" {
  description = "The only branch whose workflows may deploy this environment: develop for dev, main for prod (GitFlow; set in <env>.tfvars)."
  type        = string
  validation {
    condition     = length(var.deploy_branch) > 0
    error_message = "deploy_branch names a branch."
  }
}

variable "deploy_grantable_roles" {
  description = "Project roles the env roots grant to their own service accounts, which the deploy account may grant and nothing else."
  type        = list(string)
  default     = ["roles/bigquery.jobUser", "roles/logging.logWriter", "roles/storage.objectViewer"]
}

variable "deploy_roles" {
  description = "Project roles of the deploy account: enough to apply infra/envs, no owner or editor."
  type        = list(string)
  default = [
    "roles/apigateway.admin",
    "roles/artifactregistry.admin",
    "roles/bigquery.dataOwner",
    "roles/bigquery.jobUser",
    "roles/cloudfunctions.developer",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/logging.configWriter",
    "roles/monitoring.editor",
    "roles/pubsub.admin",
    "roles/run.admin",
    "roles/secretmanager.admin",
    "roles/servicemanagement.admin",
    "roles/serviceusage.apiKeysAdmin",
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

variable "plan_roles" {
  description = "Project roles of the read-only plan account: every refresh the env roots make, nothing that writes (infra/model checks it)."
  type        = list(string)
  default = [
    "roles/bigquery.metadataViewer",
    "roles/iam.securityReviewer",
    "roles/storage.bucketViewer",
    "roles/storage.objectViewer",
    "roles/viewer",
  ]
}

variable "project_id" {
  description = "Project of the environment (npm run deploy:bootstrap passes it)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id)) && !can(regex("(?i)(^|[-_/])(0{4,}|x{3,}|example|changeme|placeholder|your-?project|my-?project|project-?id|owner)([-_/]|$)", var.project_id))
    error_message = "project_id must be the id of your own Google Cloud project, not a placeholder copied from an example."
  }
}

variable "region" {
  description = "Region of the state bucket and the image repository: the environment's region (infra/README.md#region)."
  type        = string
  default     = "southamerica-east1"
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
