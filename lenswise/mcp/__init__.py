"""The MCP server (``lenswise mcp``): lens tools for coding agents over stdio or HTTP."""
