"""Creates a `users` table the way the FastAPI tutorial apps do (SQLAlchemy model, passlib's
bcrypt), with the rows an import must sort out: duplicates, bad names, hashes that are not
bcrypt, the three bcrypt prefixes, roles. Usage: make_fastapi_users.py SQLALCHEMY_URL

`make_fastapi_users.py SQLALCHEMY_URL change-password USERNAME PASSWORD` changes a user's
password in the old app afterwards, as the app does (a new passlib hash).

The Rust test (tests/import.rs) knows these rows and passwords."""

import sys

from passlib.context import CryptContext
from passlib.hash import bcrypt, sha256_crypt
from sqlalchemy import Column, Integer, String, create_engine, text
from sqlalchemy.orm import declarative_base, sessionmaker

Base = declarative_base()


class User(Base):
    """The apps' model. `username` is indexed but not unique, as in the apps that allowed
    duplicates."""

    __tablename__ = "users"
    id = Column(Integer, primary_key=True, index=True)
    username = Column(String, index=True)
    password = Column(String)
    email = Column(String, nullable=True)
    role = Column(String, default="user")


# What the apps use: CryptContext(schemes=["bcrypt"]), at a low cost to keep the test fast.
pwd_context = CryptContext(schemes=["bcrypt"], deprecated="auto", bcrypt__rounds=4)


def hash_2a(password):
    return bcrypt.using(ident="2a", rounds=5).hash(password)


def hash_2y(password):
    return bcrypt.using(ident="2y", rounds=4).hash(password)


# (id, username, password hash, email, role). Inserted out of id order on purpose: the import
# keeps the first row of a name by primary key, not by insertion.
ROWS = [
    (4, "Alice", pwd_context.hash("alice's other password"), None, "user"),
    (1, "alice", pwd_context.hash("alice old password"), "alice@example.com", "admin"),
    (2, "bob", hash_2a("bob old password"), "not-an-email", "user"),
    (3, "carol", hash_2y("carol old password"), None, ""),
    (5, "bob", pwd_context.hash("bob's twin password"), None, "user"),
    (6, "bad name!", pwd_context.hash("whatever password"), None, "user"),
    (7, "x", pwd_context.hash("whatever password"), None, "user"),
    (8, "dave", "hunter2-plaintext", None, "user"),
    (9, "erin", pwd_context.hash("erin old password"), None, "superuser"),
    (10, "frank", sha256_crypt.hash("frank old password"), None, "user"),
    (11, None, pwd_context.hash("whatever password"), None, "user"),
    (12, "grace", pwd_context.hash("grace old password"), None, "user"),
    (13, "heidi", pwd_context.hash("heidi old password"), "alice@example.com", None),
]


def change_password(engine, username, password):
    session = sessionmaker(bind=engine)()
    user = session.query(User).filter(User.username == username).order_by(User.id).first()
    user.password = pwd_context.hash(password)
    session.commit()
    print(f"changed the password of {username}")


def main():
    engine = create_engine(sys.argv[1])
    if sys.argv[2:3] == ["change-password"]:
        change_password(engine, sys.argv[3], sys.argv[4])
        return
    Base.metadata.create_all(bind=engine)
    session = sessionmaker(bind=engine)()
    for id_, username, password, email, role in ROWS:
        session.add(User(id=id_, username=username, password=password, email=email, role=role))
    # A row written by hand, without the model's default: its role is NULL.
    session.execute(
        text("INSERT INTO users (id, username, password) VALUES (14, 'ivan', :hash)"),
        {"hash": pwd_context.hash("ivan old password")},
    )
    session.commit()
    assert pwd_context.verify("alice old password", ROWS[1][2])
    assert ROWS[2][2].startswith("$2a$05$") and ROWS[3][2].startswith("$2y$04$")
    assert ROWS[1][2].startswith("$2b$04$")
    print(f"created {len(ROWS) + 1} users")


if __name__ == "__main__":
    main()
