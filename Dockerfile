# kumoi in a container, for those who want one (kumoi itself needs no Docker).
#   docker build -t kumoi . && docker run --rm -p 127.0.0.1:4566:4566 -v kumoi-data:/var/lib/kumoi kumoi
FROM python:3.11-slim
WORKDIR /opt/kumoi
COPY pyproject.toml README.md ./
COPY kumoi ./kumoi
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /var/lib/kumoi kumoi \
    && mkdir -p /var/lib/kumoi \
    && chown kumoi /var/lib/kumoi
USER kumoi
# Inside the container kumoi must listen on every interface; the well-known test keys are allowed
# there because the published port decides who can reach it (publish it on 127.0.0.1 as above, or
# set KUMOI_ACCESS_KEY / KUMOI_SECRET_KEY).
ENV KUMOI_HOST=0.0.0.0 \
    KUMOI_DATA_DIR=/var/lib/kumoi \
    KUMOI_ALLOW_DEFAULT_KEYS=1
EXPOSE 4566 4567
VOLUME ["/var/lib/kumoi"]
HEALTHCHECK --interval=5s --timeout=3s --retries=10 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/_kumoi/health')"]
CMD ["kumoi", "serve"]
