# tflint for infra/ (ci.yml, job terraform): Terraform's recommended rules plus the Google ruleset,
# which checks argument values (machine types, regions, IAM role names) against the provider.
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

plugin "google" {
  enabled = true
  version = "0.39.0"
  source  = "github.com/terraform-linters/tflint-ruleset-google"
}
