"""Flask extensions, made once here and bound in `create_app`."""
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from kept_words import GessinBabel

babel = GessinBabel()  # Flask-Babel, each word's translation kept per language (kept_words.py)
csrf = CSRFProtect()
login_manager = LoginManager()
