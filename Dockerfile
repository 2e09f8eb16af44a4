FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . gunicorn==27.0.1
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["gunicorn", "txtcrm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
