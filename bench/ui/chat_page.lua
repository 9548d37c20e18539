-- wrk script: GET /chats/{id} (the chat page) with a session cookie (env: CHAT_ID, COOKIE).
wrk.method = "GET"
wrk.path = "/chats/" .. os.getenv("CHAT_ID")
wrk.headers["Cookie"] = os.getenv("COOKIE")
