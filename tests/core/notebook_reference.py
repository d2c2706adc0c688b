"""The notebook's ``matrix_factorization``, copied as the reference (printing removed)."""

import numpy as np


def matrix_factorization(R, P, Q, K, steps=5000, alpha=0.0002, beta=0.02):
    for step in range(steps):  # noqa: B007 - the notebook's own code, kept as written
        for i in range(len(R)):
            for j in range(len(R[i])):
                if R[i][j] > 0:
                    eij = R[i][j] - np.dot(P[i, :], Q[:, j])
                    for k in range(K):
                        P[i][k] = P[i][k] + alpha * (2 * eij * Q[k][j] - beta * P[i][k])
                        Q[k][j] = Q[k][j] + alpha * (2 * eij * P[i][k] - beta * Q[k][j])
        e = 0
        for i in range(len(R)):
            for j in range(len(R[i])):
                if R[i][j] > 0:
                    e = e + pow(R[i][j] - np.dot(P[i, :], Q[:, j]), 2)
                    for k in range(K):
                        e = e + (beta / 2) * (pow(P[i][k], 2) + pow(Q[k][j], 2))
        if e < 0.001:
            break
    return P, Q


EXAMPLE_1 = [[0, 4.5, 2.0, 0], [4, 0, 3.5, 0], [0, 5, 0, 2], [0, 3.5, 4.0, 1.0]]
EXAMPLE_2 = [[2, 5, 1, 3], [4, 0, 0, 1], [0, 4, 2, 0], [2, 4, 3, 1], [1, 3, 2, 0]]
