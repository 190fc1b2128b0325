# syntax=docker/dockerfile:1
# ducto's services as one image. The argument picks the entry point: `api` (default) or `ingest`,
# each served alone on $PORT by the standalone node:http server, against BigQuery.
#
#   docker build -t ducto .
#   docker run -p 8080:8080 -e DUCTO_WAREHOUSE=bigquery -e DUCTO_BQ_PROJECT=my-project ducto ingest
#
# Pin the base image by digest where the image is built for deployment (--build-arg NODE_IMAGE=…).
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
# Owned by root and read-only to the process: the running service cannot rewrite its own code.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/entry/container.js"]
CMD ["api"]
