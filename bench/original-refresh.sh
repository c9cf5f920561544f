#!/bin/sh
# The refresh loop of the article this project started from ("Automating AWS ECR Credential
# Refresh in Kubernetes with Terraform", the CronJob's `args`), kept as written so that
# `npm run bench` can time it side by side with ours. Two changes, neither inside the loop:
#   - no `apk add --no-cache aws-cli`: alpine/k8s already ships the aws CLI, and installing it
#     on every run would only add network time to the measurement;
#   - the Secret name comes from SECRET_NAME (default: the article's), so that the benchmark's
#     runs of this loop and of ours do not fight over one Secret.
# As in the article, the token is on the argv of every `kubectl create secret` (readable by any
# user in /proc/PID/cmdline) and each namespace costs two kubectl processes.
#
# Environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ACCOUNT_ID (the
# article's Secret), SECRET_NAME [ecr-registry-credentials].
# shellcheck disable=SC2086,SC3037 # the article's unquoted expansions and `echo -n` (busybox
# ash has it), kept as written
set -e

SECRET_NAME=${SECRET_NAME:-ecr-registry-credentials}

echo "Fetching ECR authorization token..."
TOKEN=$(aws ecr get-login-password --region $AWS_REGION)

echo "Creating Docker config JSON..."
# shellcheck disable=SC2034 # computed and never used, as in the article
DOCKER_CONFIG=$(echo -n "{\"auths\":{\"$AWS_ACCOUNT_ID.dkr.ecr.$AWS_REGION.amazonaws.com\":{\"username\":\"AWS\",\"password\":\"$TOKEN\"}}}" | base64 -w 0)

# Get all namespaces and update secrets in each
echo "Discovering all namespaces..."
NAMESPACES=$(kubectl get namespaces -o jsonpath='{.items[*].metadata.name}')

echo "Found namespaces: $NAMESPACES"

for NAMESPACE in $NAMESPACES; do
  echo "Updating secret in namespace: $NAMESPACE"

  # Create or update the secret
  kubectl create secret docker-registry $SECRET_NAME \
    --docker-server=$AWS_ACCOUNT_ID.dkr.ecr.$AWS_REGION.amazonaws.com \
    --docker-username=AWS \
    --docker-password=$TOKEN \
    --namespace=$NAMESPACE \
    --dry-run=client -o yaml | kubectl apply -f -

  echo "Secret updated successfully in $NAMESPACE"
done

echo "ECR credentials refresh completed successfully!"
