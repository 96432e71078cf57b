"""One scoring run: decide once, then batches through align -> check -> compute.

``align`` (with ``roles``) gives every column its part and pairs the rows; ``decisions``
(with ``infer`` and ``firstrows``) makes every decision from the first rows, once, as a
frozen object; ``validate`` holds each batch to it; ``pipeline`` runs the batch loop
into the mergeable totals and the ``Summary``; ``inspect`` shows the same decisions
without scoring; ``signature`` and ``gates`` pin and judge the result. May import
``io``, ``losses``, ``metrics`` and the root modules; never ``report`` or ``cli``.
"""
