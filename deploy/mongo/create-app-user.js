// Runs once, on the first start of an empty data volume (the mongo image's
// /docker-entrypoint-initdb.d hook, as the root user): the services connect as a user that
// may only read and write their own databases, named <SHORTSCIENCE_MONGODB_PREFIX><service>.
const prefix = process.env.SHORTSCIENCE_MONGODB_PREFIX || "shortscience_";
const services = ["gateway", "papers", "summaries", "search", "social"];
db.getSiblingDB("admin").createUser({
  user: process.env.MONGO_APP_USERNAME,
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: services.map((service) => ({ role: "readWrite", db: prefix + service })),
});
