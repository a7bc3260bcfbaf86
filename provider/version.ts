/** The provider's version, as Terraform sees it in the mirror and in required_providers. */
export const PROVIDER_VERSION = "0.1.0";
