"""The web UI (`seedmusic serve`): a Gradio page over the generate, analyze and edit verbs.

`jobs` does the work without Gradio; `app` lays out the page; `views` draws the A/B picture and
the readouts.
"""
