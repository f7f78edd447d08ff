//! `SecretProviderClient`: the host side of `secretprovider`.

use plugin_client::{ClientError, ErrorField};

use super::{GET_SECRET, GetSecretRequest, GetSecretResponse, MAX_SECRET_SIZE};
use crate::typed_client::typed_client;
use plugin_client::ClientService;

typed_client! {
    /// Asks a secret plugin as swarmkit does: a 200 answer whose `Err` is set is
    /// a failure, and so is a value that is empty or 500 KiB or more.
    SecretProviderClient(Some(ErrorField::Err))
}

impl<S: ClientService> SecretProviderClient<S> {
    /// `SecretProvider.GetSecret`.
    ///
    /// # Errors
    /// The plugin's error, the call's, or [`ClientError::Reported`] for a
    /// value of a size swarm refuses.
    pub async fn get_secret(
        &self,
        request: &GetSecretRequest,
    ) -> Result<GetSecretResponse, ClientError> {
        let answer: GetSecretResponse = self.client.call(GET_SECRET, request).await?;
        if answer.value.is_empty() || answer.value.len() >= MAX_SECRET_SIZE {
            return Err(ClientError::Reported {
                plugin: self.client.plugin().clone(),
                method: GET_SECRET.to_owned(),
                message: format!(
                    "secret data must be larger than 0 and less than {MAX_SECRET_SIZE} bytes (got {})",
                    answer.value.len()
                ),
            });
        }
        Ok(answer)
    }
}
